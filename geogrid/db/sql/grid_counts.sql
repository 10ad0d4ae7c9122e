-- Addresses and active checkpoints inside each of the grids :codes (boundary included).
SELECT g.code,
       (SELECT count(*) FROM addresses a WHERE ST_Covers(g.geom, a.geom)) AS addresses,
       (SELECT count(*) FROM checkpoints c
         WHERE c.status = 'active' AND ST_Covers(g.geom, c.geom)) AS checkpoints
FROM grids g
WHERE g.code = ANY(:codes)
