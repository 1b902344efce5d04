/**
 * The distributed executor (subpath `asyncio-ts/distributed`): the pools'
 * executor interface on BullMQ and Redis, and the worker that serves it.
 * Only this subpath loads BullMQ; the root package never needs Redis.
 */
export { DistributedExecutor, type DistributedExecutorOptions, type DistributedJobOptions, type DistributedMapOptions, type ShutdownFuture } from "./executor.js";
export { serveJobs, type WorkerOptions, type WorkerSummary } from "./worker.js";
export { parseRedisUrl, type RedisConnectionOptions } from "./connection.js";
export { v8Serializer, type Serializer } from "./protocol.js";
