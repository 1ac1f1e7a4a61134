-- ${bizdate}: yyyyMMdd, passed by the node's scriptArgs.
SET hive.exec.dynamic.partition.mode=nonstrict;

INSERT OVERWRITE TABLE dwd.orders_di PARTITION (dt = '${bizdate}')
SELECT order_id, line_no, customer_id, store_id, product_id,
       CAST(event_time AS TIMESTAMP) AS order_time,
       UPPER(TRIM(status)) AS status, quantity, unit_price
FROM ods.order_events
WHERE dt = '${bizdate}'
  AND order_id IS NOT NULL
  AND quantity > 0;
