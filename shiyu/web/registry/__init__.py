"""The registers' pages (``shiyu.registry``): the browser (area → building → house → residents and units),
the person profile with masking and audited reveal, the review queue, and the form a grid worker submits a
new family with."""

from shiyu.web.registry.routes import router

__all__ = ["router"]
