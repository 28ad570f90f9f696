package main

// The framework, package and module APIs' answers for the fixture's
// cluster (tui/internal/fixture): the apps are the services framework's
// prod_* tasks, the nightly job is the cron task, times are around the
// fixture's clock (2026-03-14T15:09:26Z).

const appsJSON = `{"apps":[
 {"id":"/prod/api","cmd":"./api --port $PORT0 --db postgres://db.prod:5432/app","instances":1,"cpus":1,"mem":1024,
  "labels":{},"portDefinitions":[{"port":0}],
  "tasksStaged":0,"tasksRunning":1,"tasksHealthy":0,"tasksUnhealthy":0,"deployments":[],"version":"2026-03-14T13:39:20.000Z"},
 {"id":"/prod/cache","cmd":"redis-server --port $PORT0 --maxmemory 384mb","instances":1,"cpus":0.5,"mem":512,
  "labels":{"package":"redis"},"portDefinitions":[{"port":0}],
  "tasksStaged":0,"tasksRunning":1,"tasksHealthy":0,"tasksUnhealthy":0,"deployments":[],"version":"2026-03-14T15:09:00.000Z"},
 {"id":"/prod/web","cmd":"./server --port $PORT0 --static /srv/www --workers 4","instances":3,"cpus":1,"mem":512,
  "healthChecks":[{"protocol":"HTTP","path":"/health"}],"labels":{},"portDefinitions":[{"port":0}],
  "tasksStaged":0,"tasksRunning":2,"tasksHealthy":2,"tasksUnhealthy":0,"deployments":[{"id":"d-7c41"}],"version":"2026-03-14T15:05:00.000Z"}
]}`

const deploymentsJSON = `[{"id":"d-7c41","version":"2026-03-14T15:05:00.000Z","affectedApps":["/prod/web"],"steps":[],
 "currentActions":[{"action":"ScaleApplication","app":"/prod/web"}],"currentStep":1,"totalSteps":1}]`

const webJSON = `{"app":{"id":"/prod/web","cmd":"./server --port $PORT0 --static /srv/www --workers 4","instances":3,"cpus":1,"mem":512,
  "healthChecks":[{"protocol":"HTTP","path":"/health"}],"labels":{},"portDefinitions":[{"port":0}],
  "tasksStaged":0,"tasksRunning":2,"tasksHealthy":2,"tasksUnhealthy":0,"deployments":[{"id":"d-7c41"}],"version":"2026-03-14T15:05:00.000Z",
  "lastTaskFailure":{"appId":"/prod/web","host":"node-3","message":"killed: node-3 is draining","state":"TASK_KILLED","taskId":"prod_web.5d2c7a90","timestamp":"2026-03-14T12:09:28.000Z","version":"2026-03-14T09:00:00.000Z","slaveId":"01JPB7Z3K8Q4V6W2X9Y5R1T0CC"},
  "tasks":[
   {"id":"prod_web.7f3a9c21","appId":"/prod/web","host":"node-1","ipAddresses":[],"ports":[31002],"servicePorts":[],"slaveId":"01JPB7Z3K8Q4V6W2X9Y5R1T0AA","startedAt":"2026-03-14T13:09:28.000Z","version":"2026-03-14T09:00:00.000Z","state":"TASK_RUNNING","healthCheckResults":[{"alive":true,"consecutiveFailures":0,"taskId":"prod_web.7f3a9c21"}]},
   {"id":"prod_web.9b1e0d44","appId":"/prod/web","host":"node-2","ipAddresses":[],"ports":[31007],"servicePorts":[],"slaveId":"01JPB7Z3K8Q4V6W2X9Y5R1T0BB","startedAt":"2026-03-14T13:09:28.000Z","version":"2026-03-14T09:00:00.000Z","state":"TASK_RUNNING","healthCheckResults":[{"alive":true,"consecutiveFailures":0,"taskId":"prod_web.9b1e0d44"}]}
  ]}}`

const jobsJSON = `[
 {"id":"etl.load","run":{"cmd":"./load --from s3://warehouse/exports","cpus":1,"mem":1024,"disk":0},"parents":["nightly"],
  "historySummary":{"successCount":11,"failureCount":0,"skippedCount":0,"lastSuccessAt":"2026-03-13T03:41:02Z"}},
 {"id":"nightly","run":{"cmd":"./compact --all","cpus":0.5,"mem":512,"disk":0},
  "schedules":[{"id":"nightly","cron":"0 3 * * *","nextRunAt":"2026-03-15T03:00:00Z"}],
  "historySummary":{"successCount":12,"failureCount":1,"skippedCount":0,"lastSuccessAt":"2026-03-13T03:38:40Z","lastFailureAt":"2026-03-11T03:02:13Z"},
  "activeRuns":[{"id":"20260314T0300","jobId":"nightly","status":"ACTIVE","trigger":"manual","createdAt":"2026-03-14T14:57:24Z",
    "tasks":[{"id":"nightly.20260314T0300","status":"TASK_RUNNING","agentId":"01JPB7Z3K8Q4V6W2X9Y5R1T0BB","startedAt":"2026-03-14T14:57:26Z"}]}]},
 {"id":"reports.daily","run":{"cmd":"./report --all","cpus":0.5,"mem":256,"disk":0},
  "schedules":[{"id":"daily","cron":"0 2 * * *","timezone":"Europe/Paris","nextRunAt":"2026-03-15T01:00:00Z"}],
  "historySummary":{"successCount":30,"failureCount":2,"skippedCount":0,"lastSuccessAt":"2026-03-13T01:04:10Z","lastFailureAt":"2026-03-14T01:00:30Z"}}
]`

const packagesJSON = `{"packages":[
 {"appId":"/cron","packageName":"cron","packageVersion":"1.0.0","source":"oci://registry.cairn.internal/cairn","digest":"sha256:5b1f","instances":1,"tasksRunning":1,"tasksHealthy":0,"kind":"framework","description":"Jobs on cron schedules (Metronome's API)."},
 {"appId":"","packageName":"dns","packageVersion":"0.3.0","source":"oci://registry.cairn.internal/cairn","digest":"sha256:9e07","instances":0,"tasksRunning":0,"tasksHealthy":0,"kind":"module","description":"DNS names for tasks.","module":"dns","moduleState":"running"},
 {"appId":"/prod/cache","packageName":"redis","packageVersion":"7.2.4","source":"oci://registry.cairn.internal/cairn","digest":"sha256:c3d2","instances":1,"tasksRunning":1,"tasksHealthy":0,"kind":"service","description":"An in-memory data store."}
]}`

const modulesJSON = `[
 {"name":"dns","kind":"watcher","path":"/var/lib/cairn/packages/dns/0.3.0/dns","sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","source":"package","package":{"name":"dns","version":"0.3.0","source":"oci://registry.cairn.internal/cairn","digest":"sha256:9e07"},"state":"running","pid":4242,"restarts":0,"started_at":"2026-03-14T12:09:30Z","sdk_version":"v1"},
 {"name":"audit","kind":"watcher","path":"/opt/audit/audit-module","sha256":"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae","source":"api","state":"backoff","restarts":4,
  "last_error":"exited with status 2: cannot open /var/log/audit.jsonl: permission denied","next_start":"2026-03-14T15:09:56Z"},
 {"name":"quota","kind":"hook","path":"/opt/quota/quota","sha256":"fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9","source":"config","state":"running","pid":4250,"restarts":1,"started_at":"2026-03-14T14:30:00Z"}
]`
