"""python -m ads_elt.alerts ack|snooze|resolve|list (see ads_elt.alert_states)."""

from ads_elt import alert_states

raise SystemExit(alert_states.main())
