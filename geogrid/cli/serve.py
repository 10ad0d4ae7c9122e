"""``geogrid serve`` and ``geogrid demo`` (the whole main job in one command)."""

from __future__ import annotations

import copy
from typing import Annotated, Any

import typer

from geogrid.cli._app import app, console, errors_as_messages
from geogrid.cli.load import load

DEMO_KEY_NAME = "demo 演示"


@app.command()
@errors_as_messages
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the geo API (OpenAPI docs at /docs)."""
    import uvicorn

    from geogrid.db.bootstrap import prepare_database
    from geogrid.settings import get_settings

    settings = get_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    prepare_database()
    console.print(f"geogrid API on http://{host}:{port} (docs: http://{host}:{port}/docs)")
    uvicorn.run(
        "geogrid.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # its lines carry query strings: geogrid logs requests itself
        log_config=_log_config(),
    )


def _log_config() -> dict[str, Any]:
    """Uvicorn's logging configuration, plus geogrid's own loggers on the same handler."""
    import uvicorn.config

    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["geogrid"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


@app.command()
@errors_as_messages
def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
) -> None:
    """Start the embedded PostGIS, load the demo data and serve the API with a demo key."""
    from geogrid.db.bootstrap import prepare_database
    from geogrid.settings import get_settings
    from geogrid.workspace import Workspace
    from geogrid.workspace.credentials import reissue_key

    ready = prepare_database()
    console.print(f"database ready: {ready.location}")
    load("demo")
    settings = get_settings()
    issued = reissue_key(Workspace.open(settings), DEMO_KEY_NAME, "admin")
    base = f"http://{host or settings.api_host}:{port or settings.api_port}"
    console.print(
        f"demo key ({DEMO_KEY_NAME}, role admin; a new one at every `geogrid demo`):\n"
        f"  {issued.key}\n"
        f'try: curl -H "Authorization: Bearer {issued.key}" "{base}/locate?lon=120.63&lat=27.59"',
        soft_wrap=True,
    )
    serve(host=host, port=port)
