"""Who is calling, and what they may do: tokens, roles, scopes and data scopes shared by every service."""
