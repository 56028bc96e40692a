"""A fragment's rerun that meets a runner which has just finished a whole run waits on the event
loop until that runner's end has been handled (lib/server.py, the Streamlit 1.67 race the load test
counts as finish_lost), then starts as Streamlit would start it; any other rerun goes at once."""
import asyncio
import types

from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequests

from lib import server


def a_session(loop, finished):
    """An AppSession's fields that request_rerun reads, with a real request queue: `finished` a
    runner whose run has ended (its requests closed), else one still running."""
    requests = ScriptRequests()
    requests.on_scriptrunner_ready()  # (no rerun asked: the queue closes, as at a run's end)
    if not finished:
        requests = ScriptRequests()
    runner = types.SimpleNamespace(_requests=requests)
    return types.SimpleNamespace(_scriptrunner=runner, _event_loop=loop)


def test_a_fragment_rerun_waits_for_the_finished_runners_end_and_others_go_at_once(monkeypatch):
    started = []
    monkeypatch.setattr(AppSession, "request_rerun", lambda self, state: started.append((self, state)))
    server._fragment_reruns_let_the_finished_run_end()
    server._fragment_reruns_let_the_finished_run_end()  # (twice: wrapped once)
    assert AppSession.request_rerun.lets_the_finished_run_end
    fragment, whole = ClientState(fragment_id="follow"), ClientState()

    async def scenario():
        loop = asyncio.get_running_loop()
        ended = a_session(loop, finished=True)
        AppSession.request_rerun(ended, fragment)
        assert started == []  # the old runner's queued events go first
        await asyncio.sleep(0.05)
        assert started == []  # ... until its SHUTDOWN has been handled
        ended._scriptrunner = None  # what handling the SHUTDOWN does
        await asyncio.sleep(0.05)
        assert started == [(ended, fragment)]

        AppSession.request_rerun(ended_too := a_session(loop, finished=True), whole)
        running = a_session(loop, finished=False)
        AppSession.request_rerun(running, fragment)
        assert started[1:] == [(ended_too, whole), (running, fragment)]  # at once

        stuck = a_session(loop, finished=True)  # a runner that never says SHUTDOWN
        AppSession.request_rerun(stuck, fragment)
        waited = loop.time()
        while len(started) < 4 and loop.time() - waited < 30:
            await asyncio.sleep(0.01)
        assert started[3] == (stuck, fragment)  # started anyway, after RERUN_WAITS waits

    asyncio.run(scenario())
