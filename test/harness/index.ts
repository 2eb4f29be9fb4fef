/** The real-Redis test harness (no mocks): see docs/testing.md. */
export * from './types';
export * from './ports';
export * from './resp';
export * from './slots';
export * from './wait';
export * from './redis-process';
export * from './standalone';
export * from './cluster';
export * from './sentinel';
export * from './reshape';
export * from './provider';
