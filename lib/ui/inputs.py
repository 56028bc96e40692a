"""The inputs a student picks for a page: a photo, a digit of the set, or an image of their own."""
import streamlit as st

from lib.ui.text import say, t
from lib.ui.url import bound


def image_input(source, key, on_change=None):
    """The image of a chosen source — a bundled photo ("china", "flower"), a digit of the set
    (a number box says which), or an upload ("upload") — and the recipe the shown code makes it
    from. An upload that is not a usable image says why and falls back to the China photo.
    `on_change`: called when the digit or the upload changes (a page drawn in parts redraws them)."""
    from lib import data

    if source == "digit":
        index = bound(st.number_input, t("image.digit", last=data.DIGIT_COUNT - 1), 0, data.DIGIT_COUNT - 1, 0,
                      key=key, on_change=on_change)
        image, label = data.digit(index)
        st.caption(t("image.digit_label", label=label))
        return image, dict(source="digit", digit_index=index)
    if source == "upload":
        upload = st.file_uploader(t("image.upload"), type=["png", "jpg", "jpeg"], key=key,
                                  max_upload_size=data.MAX_UPLOAD_BYTES // 2 ** 20, on_change=on_change)
        if upload is not None:
            try:
                image, factor = data.image_from_bytes(upload.getvalue(), max_side=data.PHOTO_SIDE)
                return image, dict(source="upload", upload_name=upload.name, factor=factor)
            except data.ImageUnreadable as e:
                say(e, icon=":material/broken_image:")
        st.caption(t("image.upload_fallback"))
        source = "china"
    image, factor = data.photo(source)
    return image, dict(source=source, factor=factor)
