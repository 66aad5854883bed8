-- annotate.lua — wrk script: POST an annotation to a random task of the benchmark project.
-- Environment: BENCH_TOKEN, BENCH_TASK_IDS (a file of task ids, one per line).
local token = os.getenv("BENCH_TOKEN")
local ids = {}
for line in io.lines(os.getenv("BENCH_TASK_IDS")) do
	ids[#ids + 1] = line
end
local body = '{"result":[{"id":"b1","from_name":"sentiment","to_name":"text","type":"choices",' ..
	'"value":{"choices":["Positive"]}}],"lead_time":2.0}'

function init(args)
	math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end

function request()
	return wrk.format("POST", "/api/tasks/" .. ids[math.random(#ids)] .. "/annotations/",
		{ ["Authorization"] = "Token " .. token, ["Content-Type"] = "application/json" }, body)
end
