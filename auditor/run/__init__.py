"""auditor/run"""
