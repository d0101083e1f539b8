"""plg-sync: keep warehouse-computed product signals current in Customer.io and the CRM."""

__version__ = "0.1.0"
