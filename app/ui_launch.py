"""``python -m app.ui_launch run streamlit_app.py [options]``: ``streamlit run``, without the "Page not
found" dialog that the very first visitor of a fresh server gets when arriving by a deep link.

Why: Streamlit decides once per process, when the first session starts, whether the app is an old-style
multipage app (a ``pages/`` folder beside the entry script), and only the first ``st.navigation`` call
says otherwise. So the first session runs the old navigation, where pages are named after their files
(``fake_or_real``): the QR code's ``/fake-or-real`` is not among them, and that visitor sees the dialog
over the right page, which stays inert until it is closed (streamlit issues 8860, 9624, 9992). Our
``pages/`` are ``st.Page`` files that ``streamlit_app.py`` navigates, so this says so before the first
session, exactly as that first ``st.navigation`` call would. scripts/app.sh, scripts/serve.sh and the
browser tests start the app this way.
"""

from streamlit.runtime.pages_manager import PagesManager
from streamlit.web.cli import main

if __name__ == "__main__":
    PagesManager.uses_pages_directory = False
    main()
