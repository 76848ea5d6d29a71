"""Fixtures and hooks shared by the project's tests (helpers live in tests/support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.notebook import read_release
from tests.support import ASSIGNMENTS

HERE = Path(__file__).resolve().parent
# Slow: a test that grades whole notebooks (pipeline, command line, nbgrader, kernel), attacks the walls,
# restarts or times a worker, or builds a repository. Marked here only: file -> its slow tests (() for all).
SLOW = {
    "attacks/test_attacks.py": (),
    "attacks/test_walls.py": (),
    "attacks/test_no_false_accusations.py": ("test_a_wrong_answer_is_never_a_from_scratch_verdict",),
    "release/test_nbgrader.py": (),
    "release/test_notebooks_run.py": (),
    "release/test_release.py": (),
    "autograder/test_cli.py": (),
    "autograder/verbs/test_collect.py": ("test_collected_students_are_graded_and_the_missing_ones_have_rows",),
    "autograder/test_pipeline.py": (
        "test_a_correct_submission_scores_full_marks", "test_the_blank_release_scores_zero_without_crashing",
        "test_every_item_has_public_and_hidden_cases_and_public_weighs_a_quarter",
        "test_a_sample_loses_exactly_the_items_it_gets_wrong", "test_a_forbidden_route_is_named_in_the_feedback",
        "test_hidden_feedback_shows_shapes_but_not_expected_values", "test_results_are_json_in_the_gradescope_schema"),
    "autograder/verbs/test_grade_all.py": (
        "test_every_student_gets_a_row_a_results_file_and_feedback", "test_scores_are_each_students_own",
        "test_odd_submissions_are_flagged_not_crashed", "test_each_student_meets_the_hidden_inputs_of_their_own_seed",
        "test_the_gradebook_has_a_row_per_student_and_a_column_per_item",
        "test_feedback_says_why_without_hidden_values",
        "test_the_command_line_grades_a_class_and_rejects_a_missing_folder",
        "test_written_answers_graded_in_nbgrader_are_merged_and_the_rest_stay_pending",
        "test_a_class_graded_in_shards_and_merged_is_the_class_graded_at_once",
        "test_a_student_whose_grading_met_a_grader_fault_is_graded_again_in_a_fresh_pool",
        "test_a_grading_the_grader_could_not_finish_is_never_a_final_score",
        "test_the_judges_of_a_class_share_one_zygote",
        "test_a_judge_that_meets_a_grader_fault_gets_its_own_zygote_and_the_others_keep_the_shared_one"),
    "autograder/report/test_exports.py": (
        "test_grade_all_writes_the_exports_and_a_students_feedback_without_the_graders_details",),
    "autograder/verbs/test_interruptions.py": (
        "test_a_signal_stops_every_process_of_the_run_and_keeps_the_students_finished",
        "test_resume_goes_on_where_an_interrupted_run_stopped"),
    "autograder/nbgrader/test_register.py": (
        "test_the_formgrader_lists_a_registered_class_and_its_grades_reach_the_gradebook",   # a Jupyter server
        "test_a_new_database_gets_the_schema_version_nbgraders_alembic_gives"),               # nbgrader's alembic
    "autograder/verbs/test_new.py": ("test_the_release_is_generated_and_the_scaffolds_own_solution_scores_full_marks",),
    "autograder/judge/test_plugin.py": ("test_the_solution_passes_every_public_and_hidden_case[05_lenet]",),  # trains
    "autograder/test_notebook.py": (
        "test_stripped_metadata_falls_back_to_cell_ids", "test_an_edited_test_cell_changes_nothing_but_a_note",
        "test_a_deleted_solution_cell_loses_only_what_needs_it", "test_a_huge_output_cell_is_ignored",
        "test_the_feedback_of_a_name_error_names_the_cell_the_grader_did_not_run"),
    "autograder/verbs/test_push_feedback.py": (),
    "autograder/verbs/test_publish.py": ("test_the_round_keeps_the_token_from_student_code_and_posts_each_grade_once",),
    "autograder/sandbox/test_process.py": (
        "test_a_dead_zygote_is_started_again", "test_cells_that_kill_or_hang_the_worker_are_skipped",
        "test_a_call_that_kills_the_worker_fails_alone_and_the_next_call_works",
        "test_once_the_budget_is_spent_calls_get_short_deadlines",
        "test_a_call_starved_of_cpu_by_the_machine_is_the_graders_fault_not_the_students",
        "test_every_process_the_worker_started_is_gone_when_it_closes",
        "test_processes_forked_beside_each_other_share_one_zygote_and_one_that_restarts_gets_its_own"),
    "autograder/judge/test_seeds.py": ("test_without_a_course_secret_grading_says_so",),
    "autograder/judge/test_speed.py": ("test_loops_over_n_h_or_w_fail_and_vectorised_code_passes",),
    "autograder/release/test_repository.py": ("test_the_template_grades_its_public_checks_without_the_hidden_cases",
                                    "test_release_builds_a_repository_that_installs_and_grades_as_its_workflow_says"),
    "test_cases.py": ("test_a_named_lenet_with_same_padding_keeps_every_lenet_point_when_graded",),
    "test_correct_forms.py": ("test_a_correct_unusual_answer_keeps_every_point",),
    "test_task_rules.py": (),
    "autograder/report/test_class_view.py": ("test_the_report_renders_in_a_browser_with_its_text_and_figures",),
}


# The files that take longest, longest first: they start first, so that under `-n auto --dist loadfile` (.ci/run)
# no worker is left with a long file at the end while the others idle. Within a file the order stays.
LONGEST = ["release/test_nbgrader.py", "autograder/test_pipeline.py", "autograder/verbs/test_grade_all.py",
           "attacks/test_attacks.py", "attacks/test_no_false_accusations.py", "autograder/test_cli.py",
           "attacks/test_walls.py", "autograder/verbs/test_publish.py",
           "autograder/verbs/test_interruptions.py", "release/test_notebooks_run.py",
           "test_correct_forms.py", "autograder/release/test_repository.py", "autograder/sandbox/test_process.py"]


def _relative(item) -> str | None:
    path = item.path.resolve()
    return path.relative_to(HERE).as_posix() if path.is_relative_to(HERE) else None


@pytest.hookimpl(tryfirst=True)    # before -m deselects
def pytest_collection_modifyitems(items):
    for item in items:
        named = SLOW.get(_relative(item))
        if named is not None and (not named or item.originalname in named or item.name in named):
            item.add_marker(pytest.mark.slow)
    rank = {name: number for number, name in enumerate(LONGEST)}
    items.sort(key=lambda item: rank.get(_relative(item), len(LONGEST)))     # stable: a file keeps its order


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Torch in this process on one thread, as in every worker and in each judge of grade-all --jobs 2: the
    in-process judge and LocalStudent's training then do not wait on a second thread a busy runner lacks."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def release_01():
    return read_release(ASSIGNMENTS / "01_corr2d" / "01_corr2d.ipynb")
