"""A tiny example domain, 通知 (notices): a grid's posted notices. It exists to show — and test — that adding
a domain is one package with a declaration plus one line in the domain list (docs/development.md, "How to
add a domain"). It is never part of the platform: ``walk.py`` runs it in a process of its own, so its table
never joins the real schema the other tests check against the migrations."""
