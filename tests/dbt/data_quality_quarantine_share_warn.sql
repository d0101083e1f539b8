-- Warn when a source table had more than plg_quarantine_warn_pct (0-1) of its rows
-- quarantined in staging: loaders deliver odd rows routinely, so this is a warning to
-- look at plg_data_quality, not a stop. Returns one row per table above the threshold.
{{ config(severity='warn', tags=['data_quality']) }}
{{ plg_quarantine_share_above(var('plg_quarantine_warn_pct', 0.01)) }}
