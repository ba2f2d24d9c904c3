"""The running example: "newsroom", a small Brazilian news portal built with Django.

Categories, authors, readers, news items and comments (``models``), a news list page
(``views``, ``templates/newsroom/news_list.html``) at ``/noticias/``, the data loader
(``loader``) for the committed data set in ``data/newsroom/``, and the page functions the
notebooks measure (``pages``). Call ``scalecode.backends.setup_django()`` before importing
``models``, ``views`` or ``pages``.
"""
