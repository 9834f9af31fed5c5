"""The teaching app's page rendered as the server renders it, and its widgets found by CSS class, for tests without a browser."""

from __future__ import annotations


def render_page():
    """Render the app inside Solara's app layout (which holds the sidebar): the widget tree and its render context."""
    import solara

    from pfpp_sim.app.page import Page

    return solara.render(solara.AppLayout(children=[Page()]), handle_error=False)


def widgets_with_class(root, css_class: str) -> list:
    """Every widget below ``root`` (slots included) with the CSS class ``css_class``."""
    found, stack = [], [root]
    while stack:
        widget = stack.pop()
        classes = (getattr(widget, "attributes", None) or {}).get("class", "").split() + (getattr(widget, "class_", None) or "").split()
        if css_class in classes:
            found.append(widget)
        slotted = [c for slot in (getattr(widget, "v_slots", None) or []) for c in (slot.get("children") or [])]
        children = [*(getattr(widget, "children", None) or []), *slotted]
        stack.extend(c for c in children if hasattr(c, "keys"))
    return found
