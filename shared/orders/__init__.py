"""Order intake: orders from the shop and from bulk feeds become contracts with positions."""
