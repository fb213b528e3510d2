// The schedule arithmetic lives in core (the heartbeat alarms of every family use it too).
export * from '../core/cron';
