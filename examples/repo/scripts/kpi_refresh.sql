-- Today's running totals, replaced in one statement so the dashboard never reads a gap.
INSERT INTO rpt.kpi_today (snapshot_at, order_cnt, gross_amount)
SELECT NOW(), COUNT(DISTINCT order_id), COALESCE(SUM(quantity * unit_price), 0)
FROM ods.orders_stage
WHERE order_date = CURRENT_DATE;

DELETE FROM rpt.kpi_today WHERE snapshot_at < NOW() - INTERVAL '1 day';
