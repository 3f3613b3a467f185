"""Other channels (social networks, chat, external sites) through generic webhooks: the
connector contract is in docs/channels.md."""
