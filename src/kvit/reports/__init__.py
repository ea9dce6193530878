"""Reports read from the ledger: the turnover statement and the debt ageing (spec 5.4), and
their exports to CSV and XLSX."""
