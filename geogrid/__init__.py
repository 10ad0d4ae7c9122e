"""geogrid: a spatial grid service for county grid governance.

It answers three questions on PostGIS data: which grid owns an address, where
checkpoint coverage has gaps, and how transfer vehicles reach isolation sites.
"""

__version__ = "0.1.0"
