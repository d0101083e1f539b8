-- Fail when a source table had more than plg_quarantine_error_pct (0-1) of its rows
-- quarantined: that many unusable rows means a broken loader or a wrong preset var,
-- and the signals computed from the rest would mislead. The marts are still built (this
-- test hangs off plg_data_quality, which nothing depends on).
{{ config(severity='error', tags=['data_quality']) }}
{{ plg_quarantine_share_above(var('plg_quarantine_error_pct', 0.25)) }}
