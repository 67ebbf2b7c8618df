"""The plugin mechanism: hook markers and specs, the one plugin manager, the contracts of each entry-point group.

- ``markers``: ``hookimpl``/``hookspec``; reading an implementation against its spec (defaults allowed), direct calls
- ``specs``: the hook specifications (LoggerSpec, LifecycleSpec, FrameworkSpec), never changed at run time
- ``plugins``: entry-point discovery, lookup by name, blocking, the one pluggy manager, isolated plugin-hook calls
- ``contracts``: a Protocol per entry-point group (logger class, checkpoint format, trainer)
- ``options``: a constructor's annotated parameters as its options schema, values checked before anything is built
"""
