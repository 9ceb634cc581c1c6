"""Pure Arabic text tools: matching keys, dates, encoding repair, script detection."""
