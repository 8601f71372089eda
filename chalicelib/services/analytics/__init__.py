"""Admin analytics: reports at constant cost, the refresh that makes that possible, retention.

* :mod:`.reports` - a video's report, the overview, top videos, aggregate, registered viewers;
* :mod:`.combine` - the one rule that puts roll-ups and the newest raw rows together;
* :mod:`.folding` - the scheduled refresh: raw rows into hours, days per zone, totals;
* :mod:`.live` - viewers watching now;
* :mod:`.audience` - the retention curve (which hundredths of a video views played);
* :mod:`.retention` - dropping raw rows (whole months) once folded and old;
* :mod:`.maintenance` - resetting or forgetting a video's analytics;
* :mod:`.periods` - local days and hours as spans of UTC hours;
* :mod:`.definitions` - what each figure means, sent with every answer.
"""
