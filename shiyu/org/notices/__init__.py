"""Notices (站内消息): short messages to named users — a petition's limit about to pass, a warning raised — that
the domains send when something needs a person's attention and nobody is looking at the page that shows it."""
