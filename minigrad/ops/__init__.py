"""The differentiable operations, one module per family; each op is a `Function` subclass.

`elementwise`, `reductions`, `movement` (shapes and indexing), `linalg` (matmul) and `neural`
(softmax, cross-entropy, layer norm, GELU, dropout, embedding, linear, attention: the ops behind
`minigrad.nn.functional`).
"""
