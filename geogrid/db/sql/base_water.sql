-- Water polygons inside the box (:west, :south, :east, :north), clipped to it.
WITH box AS (SELECT ST_MakeEnvelope(:west, :south, :east, :north, 4326) AS geom)
SELECT w.name,
       ST_Multi(ST_CollectionExtract(ST_Intersection(w.geom, box.geom), 3)) AS geom
FROM water w, box
WHERE w.geom && box.geom AND ST_Intersects(w.geom, box.geom)
ORDER BY w.id
