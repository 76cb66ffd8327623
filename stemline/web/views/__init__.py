"""Pages of the company's web application, one module per area."""
