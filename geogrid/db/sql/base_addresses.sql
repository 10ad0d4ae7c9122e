-- House numbers of the addresses inside the box (:west, :south, :east, :north), at most
-- :limit + 1 of them (the caller sees that there were more). && alone is not enough: it
-- compares float4 boxes, which takes in points just outside.
WITH box AS (SELECT ST_MakeEnvelope(:west, :south, :east, :north, 4326) AS geom)
SELECT a.road, a.number, a.geom
FROM addresses a, box
WHERE a.geom && box.geom AND ST_Intersects(a.geom, box.geom)
  AND a.number IS NOT NULL AND a.number <> ''
ORDER BY a.id
LIMIT :limit + 1
