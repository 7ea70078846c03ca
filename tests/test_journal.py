"""What the appliance's services write to their logs (the journal, on the SD
card): one line per job, nothing per request of the page's preview poll."""

from testsupport.servers import wait_for


def test_the_web_logs_each_job_once_and_no_preview_poll(make_appliance):
    appliance = make_appliance()
    appliance.start_web()
    for _ in range(20):  # what a page open on a phone does every few seconds
        assert appliance.request("GET", "/api/v1/screen.png?scale=1")[0] == 200
    job = appliance.submit(kind="text", text="hi", name="greeting")
    log = appliance.processes.log_dir / "web.log"
    wait_for(lambda: job in log.read_text(), what="the job's log line")
    lines = log.read_text().splitlines()
    expected = f"pixie.service INFO accepted text job {job} (default) 'greeting'"
    assert [line for line in lines if job in line] == [expected]
    assert not [line for line in lines if "screen.png" in line], lines
