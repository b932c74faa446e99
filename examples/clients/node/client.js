// Calls GetPatient on a running StandaloneServer over mutual TLS with a bearer token.
//
//   node client.js DATA_DIR PORT TOKEN PATIENT_ID
//
// DATA_DIR is the server's --dir: the client uses DATA_DIR/pki/{ca.pem,portal.pem,portal.key}
// and the .proto files the server copied to DATA_DIR/protos.
'use strict';
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [dir, port, token, patientId] = process.argv.slice(2);
if (!dir || !port || !token || !patientId) {
  console.error('usage: node client.js DATA_DIR PORT TOKEN PATIENT_ID');
  process.exit(2);
}
const definition = protoLoader.loadSync('hipaagrpc/examples/patient_records.proto', {
  includeDirs: [path.join(dir, 'protos')],
  keepCase: true,
  defaults: false,
});
const api = grpc.loadPackageDefinition(definition).hipaagrpc.examples.records.v1;
const pki = path.join(dir, 'pki');
const tls = grpc.credentials.createSsl(
  fs.readFileSync(path.join(pki, 'ca.pem')),
  fs.readFileSync(path.join(pki, 'portal.key')),
  fs.readFileSync(path.join(pki, 'portal.pem')));
const bearer = grpc.credentials.createFromMetadataGenerator((_, callback) => {
  const md = new grpc.Metadata();
  md.set('authorization', 'Bearer ' + token);
  callback(null, md);
});
const client = new api.PatientRecords(
  'localhost:' + port, grpc.credentials.combineChannelCredentials(tls, bearer));
client.GetPatient({ tenant_id: 'st-marys', patient_id: patientId }, (err, patient) => {
  if (err) {
    console.log(`${grpc.status[err.code]}: ${err.details}`);
    process.exit(1);
  }
  console.log(JSON.stringify(patient, null, 2));
});
