"""Every SQL statement of analytics, one module per capability.

* :mod:`.figures` - the columns every roll-up row holds, read as typed figures (no ``row[3]``);
* :mod:`.state` - the fold watermark, the refresh lock and the time zones kept;
* :mod:`.hours` - raw views and events folded into UTC hours, and hours read back;
* :mod:`.days` - calendar days of the zones kept, written by the refresh and read by reports;
* :mod:`.raw` - raw rows newer than the last fold (the tail), and exact counts where cheap;
* :mod:`.referrers` - views per referrer;
* :mod:`.totals` - all-time figures per video and for the library, top videos;
* :mod:`.viewers` - registered users who watched a video;
* :mod:`.live` - concurrent viewers now and minute by minute (peaks);
* :mod:`.audience` - per-day counts of views that played each hundredth of a video;
* :mod:`.catalog` - the videos themselves: existence, row lock, counts;
* :mod:`.maintenance` - resetting or forgetting a video's analytics, deleting old raw rows.

The rule that combines roll-ups with raw rows lives in ``services.analytics.combine``.
"""
