"""auditor/core"""
