/** `npm run token -- --role R --tenant T [--doctor ID] [--patient ID] [--sub S] [--expires 8h]` */
import { parseArgs } from 'node:util';
import { isRole } from '../auth/principal.js';
import { signToken } from '../auth/tokens.js';
import { loadConfig } from '../config.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    tenant: { type: 'string' },
    doctor: { type: 'string' },
    patient: { type: 'string' },
    sub: { type: 'string' },
    expires: { type: 'string', default: '8h' },
  },
});
const { role, tenant, doctor, patient } = values;
if (!isRole(role) || tenant === undefined) {
  process.stderr.write(
    'usage: npm run token -- --role clinician|frontdesk|patient|auditor|admin --tenant T [--doctor ID] [--patient ID]\n',
  );
  process.exit(2);
}
if (
  (role === 'clinician' && doctor === undefined) ||
  (role === 'patient' && patient === undefined)
) {
  process.stderr.write(
    `a ${role} token needs --${role === 'clinician' ? 'doctor' : 'patient'} ID\n`,
  );
  process.exit(2);
}
const config = loadConfig();
const token = await signToken(
  {
    sub: values.sub ?? `${role}-${doctor ?? patient ?? 'user'}`,
    tenant,
    role,
    doctorId: doctor,
    patientId: patient,
  },
  config.jwt,
  values.expires,
);
process.stdout.write(`${token}\n`);
