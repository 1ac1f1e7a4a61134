"""Renderers: pure functions of a Plan or ApplyResult. The CLI only picks one."""
