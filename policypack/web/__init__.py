"""`policypack serve`: the web editor over the project folder (issue 11).

A school customises its own layer (`schools/<id>.yaml`) in a page per policy, within the limits the
adviser's model sets, and sees its resolved policy as the real HTML writer renders it while it
types. The project folder is the only store: a save is validated (load and resolve with the edited
layer in memory), written by policypack.layerwrite (comments and order kept, atomic) and, in a git
repository, committed.

- store.py: the fields of a policy page, applying a form to a layer, validating, saving, committing
- fields.py: which field a message belongs to (the YAML line it names, mapped to a key path)
- access.py: the adviser's token, signed organisation links, sessions and CSRF tokens
- app.py: the Starlette application (routes, limits, headers) and `serve()`
"""
