-- Upsert yesterday's staged orders; CDM truncates and reloads ods.orders_stage every night.
MERGE INTO dw.fact_orders t
USING ods.orders_stage s
   ON t.order_id = s.order_id AND t.line_no = s.line_no
WHEN MATCHED THEN UPDATE SET
     status = s.status, quantity = s.quantity, unit_price = s.unit_price, updated_at = s.updated_at
WHEN NOT MATCHED THEN INSERT (order_id, line_no, customer_id, store_id, product_id, order_date,
                              status, quantity, unit_price, updated_at)
     VALUES (s.order_id, s.line_no, s.customer_id, s.store_id, s.product_id, s.order_date,
             s.status, s.quantity, s.unit_price, s.updated_at);
