-- Rebuild one day of dm.sales_daily from the cleansed orders.
-- ${bizdate} is passed by the job (scriptArgs), yyyyMMdd.
DELETE FROM dm.sales_daily WHERE biz_date = TO_DATE('${bizdate}', 'YYYYMMDD');

INSERT INTO dm.sales_daily (biz_date, store_id, category_id, order_cnt, item_cnt, gross_amount)
SELECT TO_DATE('${bizdate}', 'YYYYMMDD'), o.store_id, p.category_id,
       COUNT(DISTINCT o.order_id), SUM(o.quantity), SUM(o.quantity * o.unit_price)
FROM dw.fact_orders o
JOIN dw.dim_products p ON p.product_id = o.product_id
WHERE o.order_date = TO_DATE('${bizdate}', 'YYYYMMDD')
GROUP BY o.store_id, p.category_id;

ANALYZE dm.sales_daily;
