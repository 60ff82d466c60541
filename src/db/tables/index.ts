export * from './tenant.js';
export * from './department.js';
export * from './doctor.js';
export * from './patient.js';
export * from './careTeam.js';
export * from './record.js';
export * from './study.js';
export * from './audit.js';
