"""A per-target request budget: at most N attempts within any sliding window (easybill: 10 or 60 per minute)."""
import time

#: one second more than the minute the API counts: our clock starts before the request reaches the API
RATE_WINDOW_SECONDS = 61.0


class RateWindow:
    """Sliding window of the attempts made to one target within the last minute."""

    def __init__(self, limit, recent, window=RATE_WINDOW_SECONDS):
        self.limit, self.window = limit, window
        self.recent = sorted(recent)

    def wait(self, now=None):
        """Seconds to wait before the next attempt may start (0: now)."""
        now = time.time() if now is None else now
        self.recent = [t for t in self.recent if t > now - self.window]
        if len(self.recent) < self.limit:
            return 0
        return self.recent[-self.limit] + self.window - now

    def take(self, now=None):
        self.recent.append(time.time() if now is None else now)
