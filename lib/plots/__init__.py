"""Every figure the app draws, in one visual language (Plotly): `base` holds the language (colours,
scales, layout) and the pieces; each concept has its module. Builders take the numbers and the
language and return a `plotly.graph_objects.Figure` — or, where a chart drawn anew at every nudge
would cost the browser too much or no chart is needed, HTML (`pixel_arithmetic`, `answer_table`,
`race_legend`, the overview's `pipeline_html`) or PNG pictures (`feature_map_pictures`,
`bank_pictures`, `input_picture`, `maps_picture`, `trio_pictures`, `race_picture`,
`pooled_pair_pictures`, `shift_pictures`, `windows_pictures`; played: `race_animation`, a GIF) in
the same colours (`base.paint`)."""
from lib.plots.activations import (FUNCTION_COLORS, boundary_figure, functions_figure, gradients_figure,
                                   maxout_figure, softmax_figure)
from lib.plots.base import CATEGORICAL, GRAY_SCALE, LAYER_COLORS, SIGNED_SCALE, TEST, TRAIN, category_color, image_grid, tiles
from lib.plots.classroom import digits_figure, results_figure, tasks_figure, where_figure
from lib.plots.evaluate import (answer_table, confusion_figure, input_picture, layers_figure, maps_picture,
                                mistakes_figure, per_class_figure)
from lib.plots.filters import (bank_pictures, feature_map_pictures, learned_kernels_figure, learned_maps_figure,
                               pixel_arithmetic)
from lib.plots.model import model_diagram
from lib.plots.losses import (LOSS_COLORS, confidence_figure, metric_race_figure, race_lines_figure,
                              regression_figure)
from lib.plots.optimizers import (RACE_PIXELS, data_race_figure, landscape_rgb, race_animation, race_backdrop,
                                  race_legend, race_picture, trio_pictures)
from lib.plots.overfitting import curve_fit_figure, runs_loss_figure
from lib.plots.overview import PIPELINE, pipeline_html, workbook_figure
from lib.plots.pooling import pooled_pair_figure, pooled_pair_pictures, shift_pictures, windows_pictures
from lib.plots.saving import file_figure
from lib.plots.training import compare_figure, curves_figure, step_loss_figure

__all__ = ["file_figure", "answer_table", "confusion_figure", "input_picture", "layers_figure", "maps_picture", "mistakes_figure", "per_class_figure",
           "tiles", "LOSS_COLORS", "confidence_figure", "metric_race_figure", "race_lines_figure", "regression_figure", "data_race_figure", "landscape_rgb", "RACE_PIXELS", "race_animation", "race_backdrop", "race_legend", "race_picture", "trio_pictures", "FUNCTION_COLORS", "boundary_figure", "functions_figure", "gradients_figure", "maxout_figure",
           "softmax_figure", "CATEGORICAL", "category_color", "GRAY_SCALE", "LAYER_COLORS", "PIPELINE", "SIGNED_SCALE", "TEST", "TRAIN",
           "compare_figure", "curve_fit_figure", "curves_figure", "runs_loss_figure", "feature_map_pictures", "image_grid", "model_diagram", "pipeline_html",
           "pixel_arithmetic", "pooled_pair_figure", "pooled_pair_pictures", "shift_pictures", "step_loss_figure", "windows_pictures",
           "workbook_figure", "bank_pictures", "learned_kernels_figure", "learned_maps_figure",
           "results_figure", "tasks_figure", "where_figure", "digits_figure"]
