"""人地物事组织 (一标三实): the base registers of people, places, things and organisations of a city.

Standard addresses, buildings, houses, residents (with their residences and households), units and
components, each bound to the grid it lies in; every change arrives as a change record and reaches the
register only when a reviewer accepts it (``shiyu.registry.changes``)."""
