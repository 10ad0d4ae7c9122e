-- Roads inside the box (:west, :south, :east, :north), clipped to it, as line parts.
WITH box AS (SELECT ST_MakeEnvelope(:west, :south, :east, :north, 4326) AS geom)
SELECT r.name, r.road_class, r.bridge,
       (ST_Dump(ST_CollectionExtract(ST_Intersection(r.geom, box.geom), 2))).geom AS geom
FROM roads r, box
WHERE r.geom && box.geom AND ST_Intersects(r.geom, box.geom)
ORDER BY r.id
