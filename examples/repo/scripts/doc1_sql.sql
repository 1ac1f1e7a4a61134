-- Top 100 customers by revenue, month to date.
TRUNCATE TABLE rpt.doc1_top_customers;

INSERT INTO rpt.doc1_top_customers (customer_id, customer_name, region, revenue, rank_no)
SELECT c.customer_id, c.customer_name, c.region, SUM(s.gross_amount) AS revenue,
       RANK() OVER (ORDER BY SUM(s.gross_amount) DESC) AS rank_no
FROM dm.sales_by_customer s
JOIN dw.dim_customers c ON c.customer_id = s.customer_id
WHERE s.biz_date >= DATE_TRUNC('month', CURRENT_DATE)
GROUP BY c.customer_id, c.customer_name, c.region
ORDER BY revenue DESC
LIMIT 100;
