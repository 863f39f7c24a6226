// git-shard's plugin for opencode: tells `git-shard __hook opencode` what the agent is doing.
// git-shard writes this file and loads it for its own runs only (through OPENCODE_CONFIG_CONTENT);
// it is never added to your configuration.
//
// opencode reports each session's status (a task's subagent has a session of its own) and each
// question it asks the user. The plugin keeps them all and says one thing for the whole agent,
// each time it changes: waiting while any question is open, working while any session is busy,
// else idle. Every message carries a number that only grows: hook processes run side by side and
// may finish in any order, and git-shard keeps only the newest.
import { spawn } from "node:child_process"

const HOOK = "__GIT_SHARD__"

const busy = new Set()
const asked = new Map()
let told = ""
let last = 0

function tell(state, message) {
  last = Math.max(Date.now() * 1000, last + 1)
  try {
    const child = spawn(HOOK, ["__hook", "opencode"], { stdio: ["pipe", "ignore", "ignore"] })
    child.on("error", () => {})
    child.stdin.on("error", () => {})
    child.stdin.end(JSON.stringify({ order: last, state, message }))
    child.unref()
  } catch {
    // Never disturb the agent.
  }
}

export const GitShardActivity = async () => ({
  event: async ({ event }) => {
    const p = event.properties ?? {}
    switch (event.type) {
      case "session.status":
        if (p.status?.type === "idle") busy.delete(p.sessionID)
        else busy.add(p.sessionID)
        break
      case "session.idle":
        busy.delete(p.sessionID)
        break
      case "permission.asked":
        asked.set(p.id, `permission to use ${p.permission ?? "a tool"}`)
        break
      case "question.asked":
        asked.set(p.id, "a question")
        break
      case "permission.replied":
      case "question.replied":
      case "question.rejected":
        asked.delete(p.requestID)
        break
      default:
        return
    }
    const message = asked.size > 0 ? [...asked.values()].at(-1) : ""
    const state = asked.size > 0 ? "waiting" : busy.size > 0 ? "working" : "idle"
    if (`${state} ${message}` !== told) {
      told = `${state} ${message}`
      tell(state, message)
    }
  },
})
