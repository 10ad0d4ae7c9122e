"""Synthetic demo data for geogrid: a county modelled on Pingyang, Zhejiang.

Run ``python geodata/generate.py`` to rebuild ``geodata/pingyang-demo.gpkg.zip``;
see ``geodata/README.md`` for the layers.
"""
