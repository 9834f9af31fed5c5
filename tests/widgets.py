"""The teaching app's page rendered as the server renders it, and its widgets found by CSS class, for tests without a browser."""

from __future__ import annotations


def render_page(link: str | None = None):
    """Render the app inside Solara's app layout, as the server does: the widget tree and its render context.

    With ``link`` (a query string such as ``"?seed=7"``) the page is rendered inside Solara's
    router, as the server renders it, opened at ``/`` plus that query; without, outside any
    router, as a notebook would show it.
    """
    import solara

    from pfpp_sim.app.page import Page

    page = solara.AppLayout(children=[Page()])
    if link is not None:
        page = solara.RoutingProvider(children=[page], routes=[solara.Route("/")], pathname=f"/{link}")
    return solara.render(page, handle_error=False)


def address_bar(root) -> str:
    """What the browser's address bar would show after ``/``: the location of Solara's Navigator widget below ``root``."""
    from solara.widgets import Navigator

    stack = [root]
    while stack:
        widget = stack.pop()
        if isinstance(widget, Navigator):
            return widget.location
        stack.extend(c for c in (getattr(widget, "children", None) or []) if hasattr(c, "keys"))
    raise LookupError("the page was rendered without a router (render_page(link=...))")


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
