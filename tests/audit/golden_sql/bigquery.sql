SELECT
  `t0`.`sex`,
  `t0`.`race`,
  `t0`.`performed`,
  `t0`.`hired`,
  COUNT(*) AS `n__`,
  SUM(`t0`.`w`) AS `w__`,
  SUM(`t0`.`w` * `t0`.`w`) AS `w2__`
FROM `hr`.`decisions` AS `t0`
GROUP BY
  1,
  2,
  3,
  4
