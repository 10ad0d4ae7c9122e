"""Schemas of the OGC API – Features documents and of edits (GeoJSON in, GeoJSON out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AuditEntryPublic",
    "AuditPublic",
    "CollectionPublic",
    "CollectionsPublic",
    "ConformancePublic",
    "EditedFeaturePublic",
    "EditedFeaturesPublic",
    "EditedInBatchPublic",
    "ExtentPublic",
    "FeatureBatchIn",
    "FeatureCollectionPublic",
    "FeatureIn",
    "FeatureInBatch",
    "FeaturePatchIn",
    "FeaturePublic",
    "LandingPublic",
    "LinkPublic",
    "RepairPublic",
]


class LinkPublic(BaseModel):
    """A link to a related resource."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPublic(BaseModel):
    """The landing page: what this service is and where its parts are."""

    title: str
    description: str
    links: list[LinkPublic]


class ConformancePublic(BaseModel):
    """The conformance classes the service implements."""

    conformsTo: list[str]  # noqa: N815 (OGC's name)


class SpatialExtentPublic(BaseModel):
    """Bounding boxes of a collection, WGS 84 longitude/latitude."""

    bbox: list[list[float]]
    crs: str


class ExtentPublic(BaseModel):
    """The extent of a collection."""

    spatial: SpatialExtentPublic


class CollectionPublic(BaseModel):
    """One collection (layer)."""

    id: str
    title: str
    description: str
    itemType: str  # noqa: N815 (OGC's name)
    links: list[LinkPublic]
    extent: ExtentPublic | None = None


class CollectionsPublic(BaseModel):
    """Every collection."""

    links: list[LinkPublic]
    collections: list[CollectionPublic]


class FeaturePublic(BaseModel):
    """A GeoJSON Feature (RFC 7946); ``id`` is the feature's code."""

    type: Literal["Feature"]
    id: str
    geometry: dict[str, Any]
    properties: dict[str, Any]
    links: list[LinkPublic] | None = None


class FeatureCollectionPublic(BaseModel):
    """A page of features with OGC paging members."""

    type: Literal["FeatureCollection"]
    numberMatched: int  # noqa: N815 (OGC's name)
    numberReturned: int  # noqa: N815 (OGC's name)
    timeStamp: str  # noqa: N815 (OGC's name)
    links: list[LinkPublic]
    features: list[FeaturePublic]


class FeatureIn(BaseModel):
    """A GeoJSON Feature to create or to replace a stored one with.

    Coordinates are in the ``crs`` query parameter's system (WGS 84 by default), x first.
    The code is ``properties.code`` or ``id`` (for a replacement, the path's).
    """

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict[str, Any]
    properties: dict[str, Any] = Field(default_factory=dict)


class FeatureInBatch(BaseModel):
    """A feature of a multi-feature edit: its new geometry and properties (a whole
    replacement, as PUT), and the ETag it was read with."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"]
    id: str | int = Field(description="the feature's code")
    geometry: dict[str, Any]
    properties: dict[str, Any] = Field(default_factory=dict)
    if_match: str = Field(
        min_length=1,
        max_length=2000,
        description="the feature's ETag as read (or `*`), as the If-Match of a PUT",
    )


class FeatureBatchIn(BaseModel):
    """Features replaced together in one transaction (all or none), e.g. two sibling
    grids whose shared border moves."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["FeatureCollection"]
    features: list[FeatureInBatch] = Field(min_length=1, max_length=100)


class FeaturePatchIn(BaseModel):
    """A partial GeoJSON Feature: the properties given are merged into the stored ones
    (``null`` clears one), a geometry given replaces the stored one."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["Feature"] = "Feature"
    id: str | int | None = None
    geometry: dict[str, Any] | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class RepairPublic(BaseModel):
    """One repair of an edited grid's geometry, with the area drawn and the area stored."""

    kind: Literal["closed_ring", "make_valid"] = Field(
        description="closed_ring: a ring left open was closed; make_valid: an invalid "
        "polygon was repaired (refused when it loses more than 1 % of the drawn area)"
    )
    message: str
    area_before_m2: float = Field(description="area the drawn outline encloses, m²")
    area_after_m2: float = Field(description="area stored, m²")


class EditedFeaturePublic(FeaturePublic):
    """The feature as stored after an edit, with what the service changed in it."""

    repaired: str | None = Field(
        default=None, description="Every repair of the geometry in one line, or null."
    )
    repairs: list[RepairPublic] = Field(
        default_factory=list, description="Every repair of the geometry (empty: stored as given)."
    )


class EditedInBatchPublic(EditedFeaturePublic):
    """A feature as stored by a multi-feature edit, with its new ETag."""

    etag: str = Field(description="the stored version, for the next If-Match")


class EditedFeaturesPublic(BaseModel):
    """The features as stored by a multi-feature edit, in the order sent."""

    type: Literal["FeatureCollection"]
    features: list[EditedInBatchPublic]


class AuditEntryPublic(BaseModel):
    """One write: who, when, what, and the feature before and after (GeoJSON, WGS 84)."""

    id: int
    at: datetime
    actor: str
    role: str | None
    action: str
    layer: str
    code: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditPublic(BaseModel):
    """Audit entries, newest first."""

    entries: list[AuditEntryPublic]
