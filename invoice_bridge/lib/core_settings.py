"""The one parsing rule of the addon's settings (``ir.config_parameter`` values are text).

The default's type decides how the stored text is read: ``bool`` accepts 1/0, true/false, yes/no, on/off (any
case); ``int`` and ``float`` accept what Python's constructors accept; ``str`` is taken as it is. An empty or
unreadable value gives the default, so a typo in a system parameter never stops a channel.
"""

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def parse_setting(raw, default):
    """``raw`` (the stored text, or None) read as the type of ``default``; the default when empty or invalid."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    text = str(raw).strip()
    if isinstance(default, bool):
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        return default
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            return default
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            return default
    return text
