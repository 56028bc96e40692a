"""The shared Streamlit pieces every page uses, one job per module:

    pages     the pages, their files and what each needs       text      the language, `t`, saying a refusal
    url       settings in the URL, a hostile link checked       shell     language switch, menu, share, fresh-server note
    layout    header, controls beside a picture, plot, code     figures   results shared by every session, forgotten
    inputs    the image a student picks                         dense     one input through the layers; a Dense unit
    layer_editor  the Model page's rows of layers       kernel_editor  the Filters page's grid
    live_run  a training run started, followed, explained       state     what one page leaves for another
    models    the models a page looks at, and their exams
    task_panel a page's tasks in the sidebar, checked from what it computed; the checklist
    parts     parts of a page that redraw alone (keyed fragments), and what they computed
    classroom the class's store, who this browser is and where; the teacher's key and class view
    drawings  the class's own handwriting: a student gives a drawing, the teacher trains on the set
    follow    bring the class here: the teacher's push, and students following it
    lesson    lesson links: the pages and controls a lesson shows, and the teacher's maker

`lib.ui` is the only part of `lib` that imports Streamlit. Pages read widgets, call the rest of
`lib`, and show what comes back through these helpers, so every page looks and speaks alike.
The names below are the ones pages use (`ui.t`, `ui.bound`, ...).
"""
import streamlit as st  # noqa: F401  (ui.st: what the helpers draw with)

from lib.ui import models, state  # noqa: F401
from lib.ui.dense import dense_unit_view, layer_outputs  # noqa: F401
from lib.ui.follow import follow_the_teacher, teacher_controls  # noqa: F401
from lib.ui.figures import forget_figures, shared, shared_figure  # noqa: F401
from lib.ui.inputs import image_input  # noqa: F401
from lib.ui.lesson import join_lesson, lesson_maker, lesson_notice  # noqa: F401
from lib.ui.kernel_editor import kernel_editor  # noqa: F401
from lib.ui.layer_editor import layer_editor, new_rows  # noqa: F401
from lib.ui.layout import (PLOT_CONFIG, code_panel, controls_and_picture, header, notice, page_end,  # noqa: F401
                           live_table, page_link, pass_cost, pictures, plot, references, section, start_button,
                           table)
from lib.ui.live_run import FOLLOW_COST, Entry, LiveRun, run_notice, session_id  # noqa: F401
from lib.ui.pages import (HIDDEN, PAGES, ROOT, SECTIONS, PageInfo, available_pages, is_available,  # noqa: F401
                          page_info)
from lib.ui.shell import (QR_BORDER, QR_SCALE, choose_language, get_ready, navigation, prepare_server,  # noqa: F401
                          qr_png, share_button)
from lib.ui.classroom import be_seen, class_view_live, student_id, teacher_unlocked  # noqa: F401
from lib.ui.drawings import class_drawings, give_drawing, when_class_leaves as drop_class_drawings  # noqa: F401
from lib.ui.drawings import when_server_starts as drop_drawings_left_behind  # noqa: F401
from lib.ui.task_panel import checklist as task_checklist, task_open, tasks  # noqa: F401
from lib.ui.parts import part, part_result, redraws, reruns_page  # noqa: F401
from lib.ui.state import LOADED_MODEL, MODEL_STACK, TRAINING_RUN  # noqa: F401
from lib.ui.text import labels, lang, literal, refusal_text, say, spec_error_text, t  # noqa: F401
from lib.ui.url import (BOUND, IGNORED, MAX_LINK_TEXT, bound, choice, class_link, ignored_in_link,  # noqa: F401
                        keys)
